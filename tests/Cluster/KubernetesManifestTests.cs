using System.Text.RegularExpressions;
using PdRdma.Hosting.Processes;
using YamlDotNet.RepresentationModel;

namespace PdRdma.Tests.Cluster;

/// <summary>
/// deploy/kubernetes cannot be applied here (no cluster): these checks parse every manifest, check the shape an
/// operator relies on (kinds, names, the daemon's host network, IPC_LOCK, RDMA resource, socket hostPath) and that
/// every pdrdma option the manifests pass exists in this build.
/// </summary>
public sealed partial class KubernetesManifestTests
{
    private static string Folder
    {
        get
        {
            var root = AppContext.BaseDirectory;
            while (root is not null && !File.Exists(Path.Combine(root, "PdRdma.sln"))) root = Path.GetDirectoryName(root);
            return Path.Combine(root!, "deploy", "kubernetes");
        }
    }

    private static List<(string File, YamlMappingNode Doc)> Documents()
    {
        var all = new List<(string, YamlMappingNode)>();
        foreach (var file in Directory.GetFiles(Folder, "*.yaml").Order())
        {
            var stream = new YamlStream();
            using (var reader = new StreamReader(file)) stream.Load(reader);
            foreach (var doc in stream.Documents)
                if (doc.RootNode is YamlMappingNode map) all.Add((Path.GetFileName(file), map));
        }
        return all;
    }

    private static YamlNode? At(YamlNode node, params string[] path)
    {
        foreach (var step in path)
        {
            if (node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(step), out var next)) node = next;
            else if (node is YamlSequenceNode seq && int.TryParse(step, out var i) && i < seq.Children.Count) node = seq.Children[i];
            else return null;
        }
        return node;
    }

    private static string? Scalar(YamlNode node, params string[] path) => (At(node, path) as YamlScalarNode)?.Value;

    [Fact]
    public void EveryManifestParsesAndIsListedInTheKustomization()
    {
        var docs = Documents();
        Assert.NotEmpty(docs);
        foreach (var (file, doc) in docs)
        {
            Assert.False(string.IsNullOrEmpty(Scalar(doc, "apiVersion")), $"{file}: no apiVersion");
            Assert.False(string.IsNullOrEmpty(Scalar(doc, "kind")), $"{file}: no kind");
            if (Scalar(doc, "kind") != "Kustomization") Assert.False(string.IsNullOrEmpty(Scalar(doc, "metadata", "name")), $"{file}: no metadata.name");
        }
        var kustomization = docs.Single(d => Scalar(d.Doc, "kind") == "Kustomization").Doc;
        var listed = ((YamlSequenceNode)At(kustomization, "resources")!).Children.Select(c => ((YamlScalarNode)c).Value).ToHashSet();
        foreach (var file in docs.Select(d => d.File).Distinct().Where(f => f != "kustomization.yaml")) Assert.Contains(file, listed);
        foreach (var name in listed) Assert.True(File.Exists(Path.Combine(Folder, name!)), $"kustomization lists missing {name}");
        var kinds = docs.Select(d => Scalar(d.Doc, "kind") + "/" + Scalar(d.Doc, "metadata", "name")).ToHashSet();
        foreach (var expected in new[] { "DaemonSet/pdrdmad", "Deployment/prefill", "Deployment/decode", "Deployment/proxy", "Service/proxy", "StatefulSet/etcd" })
            Assert.Contains(expected, kinds);
    }

    [Fact]
    public void TheDaemonRunsOnTheHostNetworkWithPinnedMemoryAnRdmaDeviceAndTheSocketOnTheHost()
    {
        var daemon = Documents().Single(d => Scalar(d.Doc, "kind") == "DaemonSet").Doc;
        var pod = At(daemon, "spec", "template", "spec")!;
        Assert.Equal("true", Scalar(pod, "hostNetwork"));
        var container = At(pod, "containers", "0")!;
        Assert.Contains("IPC_LOCK", ((YamlSequenceNode)At(container, "securityContext", "capabilities", "add")!).Children.Select(c => c.ToString()));
        Assert.Contains(((YamlMappingNode)At(container, "resources", "limits")!).Children.Keys, k => k.ToString().StartsWith("rdma/", StringComparison.Ordinal));
        var volumes = ((YamlSequenceNode)At(pod, "volumes")!).Children;
        Assert.Contains(volumes, v => Scalar(v, "hostPath", "path") == "/run/pdrdma");
        // The configuration it mounts is a valid pdrdmad configuration with discovery on.
        var config = Documents().Single(d => Scalar(d.Doc, "kind") == "ConfigMap").Doc;
        using var json = System.Text.Json.JsonDocument.Parse(Scalar(config, "data", "pdrdmad.json")!);
        var etcd = json.RootElement.GetProperty("Daemon").GetProperty("Etcd");
        Assert.Empty(new global::PdRdma.Daemon.Discovery.EtcdOptions { Endpoints = etcd.GetProperty("Endpoints").GetString() }.Validate());
        Assert.Equal("/run/pdrdma/pdrdmad.sock", json.RootElement.GetProperty("Daemon").GetProperty("Socket").GetString());
    }

    [Fact]
    public async Task EveryPdrdmaOptionInTheManifestsExists()
    {
        async Task<string> Help(string command)
        {
            var (exit, stdout, stderr) = await PdrdmaProgram.Cli.RunAsync(TimeSpan.FromMinutes(1), command, "--help");
            Assert.True(exit == 0, $"pdrdma {command} --help: {stderr}");
            return stdout;
        }
        var known = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["serve"] = await Help("serve"),
            ["proxy"] = await Help("proxy"),
            ["daemon"] = string.Join(' ', PdRdma.Daemon.DaemonHost.Switches.Keys) + " --config",
        };
        var checkedAny = 0;
        foreach (var (file, doc) in Documents())
        {
            foreach (var container in (At(doc, "spec", "template", "spec", "containers") as YamlSequenceNode)?.Children ?? [])
            {
                var command = ((YamlSequenceNode?)At(container, "command"))?.Children.Select(c => c.ToString()).ToList() ?? [];
                if (command.FirstOrDefault() != "pdrdma") continue;
                var help = known[command[1]];
                foreach (var arg in ((YamlSequenceNode?)At(container, "args"))?.Children.Select(c => c.ToString()) ?? [])
                {
                    var option = OptionName().Match(arg);
                    if (!option.Success) continue;
                    Assert.True(Regex.IsMatch(help, Regex.Escape(option.Value) + @"(?![\w-])"), $"{file}: pdrdma {command[1]} has no option {option.Value}");
                    checkedAny++;
                }
            }
        }
        Assert.True(checkedAny >= 10, $"only {checkedAny} options checked");
    }

    [GeneratedRegex("^--[a-z-]+")]
    private static partial Regex OptionName();
}
