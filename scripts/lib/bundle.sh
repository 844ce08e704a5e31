# Shared by scripts/gpu-bundle.sh and scripts/xpu-bundle.sh (sourced): publishes a self-contained `pdrdma` holding
# only some commands of src/Cli (compiled from their sources, on System.CommandLine like the full CLI).
# publish_bundle WORK OUT NAME "EXTRA MSBUILD PROPERTIES" "EXTRA ITEMS" "COMMAND CLASSES" PRELUDE [dotnet publish args...]
#   COMMAND CLASSES: space-separated PdRdma.Cli.Commands classes, each compiled from src/Cli/Commands/CLASS.cs; those
#   named *Command are added to the root with CLASS.Create(); PRELUDE: C# statements run first (e.g. preloading libtorch).
publish_bundle() {
  local work=$1 out=$2 name=$3 props=$4 items=$5 commands=$6 prelude=$7
  shift 7
  local compile="" create=""
  for class in $commands; do
    compile="$compile
    <Compile Include=\"\$(PdRoot)/src/Cli/Commands/$class.cs\" />"
    case $class in *Command) create="$create    $class.Create(),
" ;; esac
  done
  cat > "$work/$name.csproj" <<PROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <PdRoot>$root</PdRoot>
    <OutputType>Exe</OutputType>
    <AssemblyName>pdrdma</AssemblyName>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <InvariantGlobalization>true</InvariantGlobalization>
    <JsonSerializerIsReflectionEnabledByDefault>true</JsonSerializerIsReflectionEnabledByDefault>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
    $props
  </PropertyGroup>
  <ItemGroup>
    <ProjectReference Include="\$(PdRoot)/src/Transport/PdRdma.Transport.csproj" />
    <ProjectReference Include="\$(PdRoot)/src/Hosting/PdRdma.Hosting.csproj" />
    <Compile Include="\$(PdRoot)/src/Cli/Options/*.cs" />$compile$items
  </ItemGroup>
</Project>
PROJ
  cat > "$work/Main.cs" <<CS
using System.CommandLine;
using PdRdma.Cli.Commands;
using PdRdma.Hosting.CommandLine;
$prelude
return await CommandLineApp.RunAsync(new RootCommand("pdrdma ($name)")
{
$create}, args, "pdrdma");
CS
  dotnet publish "$work/$name.csproj" -c Release -r linux-x64 --self-contained -o "$out" -nologo -v quiet "$@"
}
