namespace PdRdma.Tests.Verbs;

/// <summary>
/// One boot of two Soft-RoCE VMs (TCG is slow) running every two-host check in sequence: VM a is the
/// target, VM b the initiator; each check is a `pdrdma verbs-peer` pair.
/// </summary>
public sealed class TwoVmFixture : IAsyncLifetime
{
    public SoftRoceVms.VmRun? Run { get; private set; }

    public async Task InitializeAsync()
    {
        if (SoftRoceVms.Missing is not null) return;
        string cli = $"{SoftRoceVms.ShellCli} verbs-peer";
        string dll = SoftRoceVms.ShellCli;
        string target = $"{cli} target --listen $PDRDMA_VM_IP:47100 --mode kv; a=$?; {cli} target --listen $PDRDMA_VM_IP:47101 --mode oob; b=$?; " +
            $"timeout 240 {dll} transfer-target --listen $PDRDMA_VM_IP:47102 --region-mb 64 --batches 1 --handshake-timeout 120; c=$?; " +
            $"{cli} target --listen $PDRDMA_VM_IP:47103 --mode lost & p=$!; {cli} target --listen $PDRDMA_VM_IP:47104 --mode lost; d=$?; wait $p; e=$?; " +
            $"{dll} verbs-dmabuf-peer target --listen $PDRDMA_VM_IP:47105; f=$?; {cli} target --listen $PDRDMA_VM_IP:47106 --mode grant; g=$?; " +
            $"{dll} verbs-grant-peer target --listen $PDRDMA_VM_IP:47107 --shared \"$PDRDMA_VM_OUT/windows\"; h=$?; " +
            $"{dll} verbs-grant-peer target --listen $PDRDMA_VM_IP:47108 --shared \"$PDRDMA_VM_OUT/fallback\" --no-windows; i=$?; exit $((a|b|c|d|e|f|g|h|i))";
        string initiator = $"{cli} initiator --connect $PDRDMA_VM_PEER_IP:47100 --mode kv; a=$?; {cli} initiator --connect $PDRDMA_VM_PEER_IP:47101 --mode oob; b=$?; " +
            $"sleep 3; {dll} transfer-send --peer $PDRDMA_VM_PEER_IP:47102 --mb 64 --ops 64 --backend verbs --checksum --connect-timeout 120; c=$?; " +
            $"{cli} initiator --connect $PDRDMA_VM_PEER_IP:47103 --connect2 $PDRDMA_VM_PEER_IP:47104 --mode lost; d=$?; " +
            $"{dll} verbs-dmabuf-peer initiator --peer $PDRDMA_VM_PEER_IP:47105; e=$?; {cli} initiator --connect $PDRDMA_VM_PEER_IP:47106 --mode grant; f=$?; " +
            $"{dll} verbs-grant-peer initiator --peer $PDRDMA_VM_PEER_IP:47107 --shared \"$PDRDMA_VM_OUT/windows\"; g=$?; " +
            $"{dll} verbs-grant-peer initiator --peer $PDRDMA_VM_PEER_IP:47108 --shared \"$PDRDMA_VM_OUT/fallback\" --no-windows; h=$?; exit $((a|b|c|d|e|f|g|h))";
        Run = await SoftRoceVms.RunAsync(target, initiator, TimeSpan.FromMinutes(8));
    }

    public Task DisposeAsync() => Task.CompletedTask;
}
