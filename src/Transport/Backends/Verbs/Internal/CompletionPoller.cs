using Microsoft.Extensions.Logging;
using PdRdma.Interop.Verbs;
using PdRdma.Interop.Verbs.Handles;
using PdRdma.Interop.Verbs.Native;

namespace PdRdma.Transport.Backends.Verbs.Internal;

/// <summary>
/// The device's completion poller: one thread that drains the shared CQ, dispatches each completion to
/// its endpoint by QP number, and handles async events. It drains while work arrives and sleeps in
/// poll(2) on the completion channel and async fds when idle, so an idle device costs no CPU.
/// </summary>
internal sealed unsafe class CompletionPoller : IDisposable
{
    private const int Batch = 32;
    private const int IdleWaitMs = 100;

    private readonly VerbsDevice _device;
    private readonly IbvContextHandle _context;
    private readonly IbvCompChannelHandle _channel;
    private readonly IbvCqHandle _cq;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private volatile bool _stopping;

    public CompletionPoller(VerbsDevice device, IbvContextHandle context, IbvCompChannelHandle channel, IbvCqHandle cq, ILogger logger)
    {
        _device = device;
        _context = context;
        _channel = channel;
        _cq = cq;
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = $"verbs-poller-{device.Name}" };
        _thread.Start();
    }

    private void Run()
    {
        Span<ibv_wc> completions = stackalloc ibv_wc[Batch];
        Span<pollfd> fds = stackalloc pollfd[2];
        fds[0] = new pollfd { fd = Ibv.CompChannelFd(_channel), events = Ibv.PollIn };
        fds[1] = new pollfd { fd = Ibv.AsyncEventFd(_context), events = Ibv.PollIn };
        try
        {
            while (!_stopping)
            {
                int n = Ibv.PollCq(_cq, completions);
                if (n > 0)
                {
                    for (int i = 0; i < n; i++) Dispatch(completions[i]);
                    continue;
                }
                if (n < 0) throw new InvalidOperationException($"ibv_poll_cq returned {n}");

                // Arm, then poll once more: a completion that arrived before arming raises no event.
                Ibv.ReqNotifyCq(_cq, solicitedOnly: false);
                n = Ibv.PollCq(_cq, completions);
                for (int i = 0; i < n; i++) Dispatch(completions[i]);
                if (n > 0) continue;

                fds[0].revents = fds[1].revents = 0;
                if (Ibv.WaitReadable(fds, IdleWaitMs) <= 0) continue;
                if ((fds[0].revents & Ibv.PollIn) != 0 && Ibv.GetCqEvent(_channel, out _) == 0) Ibv.AckCqEvents(_cq, 1);
                if ((fds[1].revents & Ibv.PollIn) != 0) HandleAsyncEvent();
            }
        }
        catch (Exception ex)
        {
            VerbsLog.PollerFailed(_logger, ex, _device.Name);
            _device.IsDown = true;
            foreach (var endpoint in _device.Endpoints)
                endpoint.Abort(new TransferException(TransferErrorCode.DeviceUnavailable, $"completion poller of {_device.Name} failed: {ex.Message}"));
        }
    }

    private void Dispatch(in ibv_wc wc)
    {
        if (_device.TryGetEndpoint(wc.qp_num, out var endpoint)) endpoint.OnCompletion(wc);
    }

    private void HandleAsyncEvent()
    {
        if (Ibv.GetAsyncEvent(_context, out var evt) != 0) return;
        try
        {
            VerbsLog.AsyncEvent(_logger, Ibv.EventTypeString(evt.event_type), _device.Name);
            switch (evt.event_type)
            {
                case ibv_event_type.IBV_EVENT_QP_FATAL or ibv_event_type.IBV_EVENT_QP_REQ_ERR or ibv_event_type.IBV_EVENT_QP_ACCESS_ERR:
                    uint qpn = ((ibv_qp*)evt.element.qp)->qp_num;
                    if (_device.TryGetEndpoint(qpn, out var endpoint))
                        endpoint.Abort(new TransferException(TransferErrorCode.PeerLost, $"{Ibv.EventTypeString(evt.event_type)} on the queue pair to {endpoint.PeerName}"));
                    break;
                case ibv_event_type.IBV_EVENT_PORT_ERR or ibv_event_type.IBV_EVENT_DEVICE_FATAL:
                    _device.IsDown = true;
                    foreach (var ep in _device.Endpoints)
                        ep.Abort(new TransferException(TransferErrorCode.DeviceUnavailable, $"RDMA device {_device.Name}: {Ibv.EventTypeString(evt.event_type)}"));
                    break;
                case ibv_event_type.IBV_EVENT_PORT_ACTIVE:
                    _device.IsDown = false;
                    break;
            }
        }
        finally
        {
            Ibv.AckAsyncEvent(ref evt);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        if (Thread.CurrentThread != _thread) _thread.Join(TimeSpan.FromSeconds(5));
    }
}
