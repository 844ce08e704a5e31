#!/usr/bin/env bash
# Builds a self-contained (untrimmed: the share handshake uses MessagePack's dynamic resolver) `pdrdma` holding only the device commands (xpu-check, xpu-ipc-peer, xpu-cuda-check,
# gpu-check, gpu-ipc-peer) for XPU / NVIDIA+XPU hosts without .NET. Usage: scripts/xpu-bundle.sh OUT_DIR
# Then on the hardware host: OUT_DIR/xpu-check.sh (copied into the bundle) runs steps 0.5-2 in one command.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:?usage: scripts/xpu-bundle.sh OUT_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/XpuBundle.csproj" <<PROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <AssemblyName>pdrdma</AssemblyName>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <AllowUnsafeBlocks>true</AllowUnsafeBlocks>
    <InvariantGlobalization>true</InvariantGlobalization>
    <JsonSerializerIsReflectionEnabledByDefault>true</JsonSerializerIsReflectionEnabledByDefault>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <ProjectReference Include="$root/src/Hosting/PdRdma.Hosting.csproj" />
    <Compile Include="$root/src/Cli/Commands/GpuCheckCommand.cs" />
    <Compile Include="$root/src/Cli/Commands/GpuIpcPeerCommand.cs" />
    <Compile Include="$root/src/Cli/Commands/XpuCheckOptions.cs" />
    <Compile Include="$root/src/Cli/Commands/XpuCheckCommand.cs" />
    <Compile Include="$root/src/Cli/Commands/XpuIpcPeerCommand.cs" />
    <Compile Include="$root/src/Cli/Commands/XpuCudaCheckCommand.cs" />
    <ProjectReference Include="$root/src/Transport/PdRdma.Transport.csproj" />
  </ItemGroup>
</Project>
PROJ
cat > "$work/Main.cs" <<'CS'
using PdRdma.Cli.Commands;
try
{
    return args.Length == 0 ? 2 : args[0] switch
    {
        "gpu-check" => await GpuCheckCommand.RunAsync(args[1..]),
        "gpu-ipc-peer" => await GpuIpcPeerCommand.RunAsync(args[1..]),
        "xpu-check" => await XpuCheckCommand.RunAsync(args[1..]),
        "xpu-ipc-peer" => await XpuIpcPeerCommand.RunAsync(args[1..]),
        "xpu-cuda-check" => await XpuCudaCheckCommand.RunAsync(args[1..]),
        _ => 2,
    };
}
catch (PdRdma.Transport.TransferException e)
{
    Console.Error.WriteLine($"pdrdma {args[0]}: {e.Message}");
    return 1;
}
CS
dotnet publish "$work/XpuBundle.csproj" -c Release -r linux-x64 --self-contained -p:PublishTrimmed=false -o "$out" -nologo -v quiet
cp "$root/scripts/xpu-check.sh" "$out/xpu-check.sh"
echo "xpu bundle: $out/xpu-check.sh [MiB] runs steps 0.5-2 on the host it is copied to"
