#!/usr/bin/env bash
# Builds a self-contained, trimmed `pdrdma` holding only the GPU commands (gpu-check, gpu-ipc-peer), for GPU hosts
# without .NET (TorchSharp's libtorch would make the full CLI far too large to carry). Usage: scripts/gpu-bundle.sh OUT_DIR
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:?usage: scripts/gpu-bundle.sh OUT_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/GpuBundle.csproj" <<PROJ
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
    <Compile Include="$root/src/Cli/SelfProcess.cs" />
    <Compile Include="$root/src/Cli/Commands/GpuCheckCommand.cs" />
    <Compile Include="$root/src/Cli/Commands/GpuIpcPeerCommand.cs" />
    <ProjectReference Include="$root/src/Transport/PdRdma.Transport.csproj" />
  </ItemGroup>
</Project>
PROJ
cat > "$work/Main.cs" <<'CS'
using PdRdma.Cli.Commands;
return args.Length == 0 ? 2 : args[0] switch
{
    "gpu-check" => await GpuCheckCommand.RunAsync(args[1..]),
    "gpu-ipc-peer" => await GpuIpcPeerCommand.RunAsync(args[1..]),
    _ => 2,
};
CS
dotnet publish "$work/GpuBundle.csproj" -c Release -r linux-x64 --self-contained -p:PublishTrimmed=true -o "$out" -nologo -v quiet
echo "gpu bundle: $out/pdrdma gpu-check [MiB]"
