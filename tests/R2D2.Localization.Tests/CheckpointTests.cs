using System.Diagnostics;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Pipeline;
using Xunit;

namespace R2D2.Localization.Tests;

public class CheckpointTests
{
    /// <summary>Two training runs' model.safetensors were two rows named 'model': the folder tells them apart.</summary>
    [Fact]
    public void ModelsOfOneNameAreLabelledWithTheirFolder()
    {
        var models = new[] { "/r/run1/model.safetensors", "/r/run2/model.safetensors", "/m/r2d2_WASF_N16.pt", "default" };
        Assert.Equal(new[] { "run1/model", "run2/model", "r2d2_WASF_N16", "r2d2_default" }, models.Select(m => ModelLoader.Label(m, models)));
    }

    /// <summary>`localize model`'s stage: the default described, converted and read back with the
    /// same weights; an output of another kind refused before the checkpoint is read.</summary>
    [Fact]
    public void TheModelRunnerDescribesAndConvertsACheckpoint()
    {
        var dir = TempDir.Create();
        var info = ModelRunner.Info("default");
        Assert.Equal(info.Tensors.Sum(t => t.Count), DefaultModel.LoadCheckpoint().StateDict.Values.Sum(t => t.Count));
        var st = Path.Combine(dir, "m.safetensors");
        Assert.Equal((info.Net, info.WeightsHash), ModelRunner.Convert("default", st));
        Assert.Equal(info.WeightsHash, ModelRunner.Info(st).WeightsHash);
        var e = Assert.Throws<UsageException>(() => ModelRunner.Convert(Path.Combine(dir, "missing.pt"), Path.Combine(dir, "m.bin")));
        Assert.Contains("the output must end in .safetensors or .pt", e.Message);
        Assert.Contains("would overwrite the checkpoint", Assert.ThrowsAny<R2D2Exception>(() => ModelRunner.Convert(st, st)).Message);
    }

    [Theory]
    [InlineData("r2d2_WASF_N16", "Quad_L2Net_ConfCFS()", 485803)]
    [InlineData("r2d2_WAF_N16", "Quad_L2Net_ConfCFS()", 485803)]
    [InlineData("r2d2_WASF_N8_big", "Quad_L2Net_ConfCFS(mchan=6)", 1041019)]
    [InlineData("faster2d2_WASF_N16", "Fast_Quad_L2Net_ConfCFS()", 485803)] // CUDA storages, no "module." prefix
    public void OfficialCheckpointsLoadAsPublished(string model, string net, long values)
    {
        var c = Checkpoint.Load(SharedData.Model(model));
        Assert.Equal(net, c.Net);
        Assert.Equal(values, c.StateDict.Values.Sum(t => t.Count));
        Assert.DoesNotContain(c.StateDict.Keys, k => k.StartsWith("module."));
        using var network = new R2D2Network(c);
        Assert.Equal(128, network.Architecture.DescriptorDim);
    }

    [Fact]
    public void SafetensorsAndTorchZipRoundTripKeepTheWeights()
    {
        var dir = TempDir.Create();
        var c = Checkpoint.Load(SharedData.Model("r2d2_WASF_N16"));
        using var original = new R2D2Network(c);
        var st = Path.Combine(dir, "m.safetensors");
        c.SaveSafeTensors(st);
        var zip = Path.Combine(dir, "m.pt");
        c.SaveTorchZip(zip);
        foreach (var path in new[] { st, zip })
        {
            var back = Checkpoint.Load(path);
            Assert.Equal(c.Net, back.Net);
            Assert.Equal(c.StateDict.Keys, back.StateDict.Keys);
            using var n = new R2D2Network(back);
            Assert.Equal(original.WeightsHash, n.WeightsHash);
        }
    }

    [Fact]
    public void PyTorchLoadsTheZipExport()
    {
        if (!PythonTools.HasModule("torch"))
        {
            Assert.True(Environment.GetEnvironmentVariable("CI") != "true", "CI must have python3-torch (see .ci/run)");
            return;
        }
        var dir = TempDir.Create();
        var zip = Path.Combine(dir, "m.pt");
        Checkpoint.Load(SharedData.Model("faster2d2_WASF_N16")).SaveTorchZip(zip);
        var output = PythonTools.Run($@"
import torch
c = torch.load('{zip}', map_location='cpu')
sd = c['state_dict']
print(c['net'], len(sd), sum(v.numel() for v in sd.values()), float(sd['clf.bias'][0]))
");
        var expected = Checkpoint.Load(SharedData.Model("faster2d2_WASF_N16"));
        Assert.StartsWith("Fast_Quad_L2Net_ConfCFS() " + expected.StateDict.Count + " 485803", output.Trim());
    }

    [Theory]
    [InlineData("Quad_L2Net_ConfCFS()", new[] { 1, 1, 1, 2, 2, 4, 4, 8, 16 }, new[] { 1, 1, 1, 2, 2, 4, 2, 4, 8 })]
    [InlineData("Fast_Quad_L2Net_ConfCFS()", new[] { 1, 1, 1, 1, 1, 2, 2, 4, 8 }, new[] { 1, 1, 1, 1, 1, 2, 1, 2, 4 })]
    public void ArchitectureFollowsTheNetString(string net, int[] dilations, int[] paddings)
    {
        var convs = R2D2Architecture.Parse(net).Ops.OfType<ConvOp>().ToList();
        Assert.Equal(dilations, convs.Select(c => c.Dilation));
        Assert.Equal(paddings, convs.Select(c => c.Padding));
    }

    [Theory]
    [InlineData("L2_Net()")]
    [InlineData("Quad_L2Net_ConfCFS(foo=1)")]
    [InlineData("import os")]
    public void UnknownNetworksAreRefused(string net) =>
        Assert.Throws<NotSupportedException>(() => R2D2Architecture.Parse(net));

    [Fact]
    public void TruncatedCheckpointNamesTheFile()
    {
        var dir = TempDir.Create();
        var bytes = File.ReadAllBytes(SharedData.Model("r2d2_WASF_N16"));
        foreach (int keep in new[] { 100, bytes.Length / 2, bytes.Length - 10 })
        {
            var path = Path.Combine(dir, $"cut{keep}.pt");
            File.WriteAllBytes(path, bytes[..keep]);
            var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("truncated", e.Message);
        }
    }

    [Fact]
    public void AFolderGivenAsCheckpointOrDatabaseSaysItIsAFolder()
    {
        var dir = TempDir.Create();
        Assert.Contains("is a folder: give a checkpoint file", Assert.Throws<CheckpointException>(() => Checkpoint.Load(dir)).Message); // was "file not found"
        var e = Assert.Throws<R2D2.Localization.Storage.FeatureDatabaseException>(() => R2D2.Localization.Storage.FeatureDatabase.Open(dir));
        Assert.Contains("is a folder: give the database file", e.Message); // was SQLite error 14
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
        // An empty file where a map or features must be: refused, not made into a database (build-retrieval did).
        var empty = Path.Combine(dir, "empty.db");
        File.WriteAllBytes(empty, Array.Empty<byte>());
        Assert.Contains("is an empty file, not a database", Assert.Throws<R2D2.Localization.Storage.FeatureDatabaseException>(() => R2D2.Localization.Storage.FeatureDatabase.OpenExisting(empty)).Message);
        Assert.Equal(0, new FileInfo(empty).Length);
        var (code, _, err) = CliTests.Localize("build-retrieval", "--map", empty);
        Assert.Equal(1, code);
        Assert.Contains("is an empty file", err);
        Assert.Equal(new[] { empty }, Directory.GetFiles(dir));
        Assert.Equal(0, new FileInfo(empty).Length);
    }

    /// <summary>A checkpoint naming an unknown network: one line (model info ended with an unhandled
    /// NotSupportedException and exit 134).</summary>
    [Fact]
    public void AnUnknownNetworkIsOneLine()
    {
        var ckpt = Checkpoint.Load(SharedData.Model("r2d2_WASF_N16"));
        var path = Path.Combine(TempDir.Create(), "foo.safetensors");
        new Checkpoint("Foo()", ckpt.StateDict).SaveSafeTensors(path);
        var (code, _, err) = CliTests.Localize("model", "info", path);
        Assert.Equal(1, code);
        Assert.Contains("unknown network 'Foo()'", err);
        Assert.DoesNotContain("   at ", err);
    }

    /// <summary>Weights with a NaN (a diverged training) are refused naming the file and tensor; they
    /// were taken, and every query fell back to a database image's pose.</summary>
    [Fact]
    public void NonFiniteWeightsAreRefusedNamingTheFileAndTensor()
    {
        var ckpt = Checkpoint.Load(SharedData.Model("r2d2_WASF_N16"));
        var (name, tensor) = ckpt.StateDict.First(kv => kv.Value.DType == TensorDType.F32);
        var values = tensor.ToFloat32();
        values[3] = float.NaN;
        var broken = ckpt.StateDict.ToDictionary(kv => kv.Key, kv => kv.Key == name ? CheckpointTensor.FromFloat32(values, tensor.Shape) : kv.Value);
        var path = Path.Combine(TempDir.Create(), "nan.safetensors");
        new Checkpoint(ckpt.Net, broken).SaveSafeTensors(path);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path));
        Assert.StartsWith($"{path}: '{name}' holds a non-finite value (NaN at index 3)", e.Message);
    }

    /// <summary>A safetensors header whose tensors share bytes is refused (it loaded, and extracted
    /// other features than the weights it claimed).</summary>
    [Fact]
    public void OverlappingTensorsAreRefused()
    {
        var dir = TempDir.Create();
        var path = Path.Combine(dir, "overlap.safetensors");
        var header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        var bytes = System.Text.Encoding.UTF8.GetBytes(header);
        using (var f = File.Create(path))
        {
            f.Write(BitConverter.GetBytes((ulong)bytes.Length));
            f.Write(bytes);
            f.Write(new byte[12]);
        }
        var e = Assert.ThrowsAny<Exception>(() => R2D2.Localization.Formats.SafeTensors.Read(path));
        Assert.Contains("tensors a and b overlap", e.Message);
    }

    /// <summary>Headers a forger or a damaged file could hold are one line naming the file (each was a
    /// stack trace); a header whose length ends in byte 0x80 is safetensors, not a pickle (one file in
    /// 256, some written by this program, could not be read back); a negative variance is refused.</summary>
    [Fact]
    public void DamagedSafetensorsHeadersAreOneLineAndAnyHeaderLengthReads()
    {
        var dir = TempDir.Create();
        string Write(string name, string header, int data = 8)
        {
            var path = Path.Combine(dir, name);
            var bytes = System.Text.Encoding.UTF8.GetBytes(header);
            using var f = File.Create(path);
            f.Write(BitConverter.GetBytes((ulong)bytes.Length));
            f.Write(bytes);
            f.Write(new byte[data]);
            return path;
        }
        foreach (var (header, message) in new[]
        {
            ("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", "tensor a: dtype missing or unknown"),
            ("{\"a\":{\"dtype\":\"Q99\",\"shape\":[2],\"data_offsets\":[0,8]}}", "tensor a: dtype missing or unknown"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", "tensor a: data_offsets is not an array of 2 integers"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}}", "tensor a: shape is not an array of integers"),
            ("{\"__metadata__\":{\"net\":3},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", "__metadata__ 'net' is not a string"),
            ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,3000000000]}}", "data offsets reach past the file's end"),
        })
        {
            var path = Write("bad.safetensors", header);
            var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path));
            Assert.Contains($"{path}: ", e.Message);
            Assert.Contains(message, e.Message);
        }
        // The official weights under a header padded to a length of 0x..80 bytes load as written.
        var ckpt = Checkpoint.Load(SharedData.Model("r2d2_WASF_N16"));
        bool found = false;
        for (int pad = 0; pad < 256 && !found; pad++)
        {
            var path = Path.Combine(dir, "padded.safetensors");
            ckpt.SaveSafeTensors(path, new Dictionary<string, string> { ["pad"] = new string('x', pad) });
            if (File.ReadAllBytes(path)[0] != 0x80) continue;
            Assert.Equal(ckpt.StateDict.Keys.Order(), Checkpoint.Load(path).StateDict.Keys.Order());
            found = true;
        }
        Assert.True(found);
        // A batch norm's variance below zero made every feature NaN (0 keypoints, no word).
        var (name, tensor) = ckpt.StateDict.First(kv => kv.Key.EndsWith("running_var", StringComparison.Ordinal));
        var values = tensor.ToFloat32();
        values[1] = -1;
        var neg = Path.Combine(dir, "negvar.safetensors");
        new Checkpoint(ckpt.Net, ckpt.StateDict.ToDictionary(kv => kv.Key, kv => kv.Key == name ? CheckpointTensor.FromFloat32(values, tensor.Shape) : kv.Value)).SaveSafeTensors(neg);
        Assert.Contains($"'{name}' holds a negative variance (-1 at index 1)", Assert.Throws<CheckpointException>(() => Checkpoint.Load(neg)).Message);
    }
}

internal static class TempDir
{
    /// <summary>This test process's folder, below which every <see cref="Create"/> is, so that runs
    /// do not pile up in the temporary folder (some 280 folders per run). It is deleted when the
    /// process exits, and, since the test host may be ended without its exit handlers, by the
    /// next run once its process is gone (R2D2_KEEP_TEST_FILES=1 keeps them all).</summary>
    private static readonly string Root = CreateRoot();

    private static string CreateRoot()
    {
        var parent = Path.Combine(Path.GetTempPath(), "r2d2-tests");
        var root = Path.Combine(parent, $"run-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}");
        Directory.CreateDirectory(root);
        if (Environment.GetEnvironmentVariable("R2D2_KEEP_TEST_FILES") == "1") return root;
        foreach (var old in Directory.EnumerateDirectories(parent, "run-*"))
        {
            var parts = Path.GetFileName(old).Split('-');
            if (parts.Length == 3 && int.TryParse(parts[1], out int pid) && pid != Environment.ProcessId && !Running(pid)) Delete(old);
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Delete(root);
        return root;
    }

    private static bool Running(int pid)
    {
        try { using var p = System.Diagnostics.Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; } // no such process
        catch (InvalidOperationException) { return false; }
    }

    private static void Delete(string folder)
    {
        try { Directory.Delete(folder, recursive: true); }
        catch (IOException) { } // another run deleting it too, or a file still open: left for later
        catch (UnauthorizedAccessException) { }
    }

    public static string Create()
    {
        var d = Path.Combine(Root, Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }

    /// <summary>Copies the folder <paramref name="from"/> with everything below it to <paramref name="to"/>.</summary>
    public static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var d in Directory.GetDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, d)));
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories)) File.Copy(f, Path.Combine(to, Path.GetRelativePath(from, f)));
    }
}

internal static class PythonTools
{
    public static bool HasModule(string module)
    {
        try { Run($"import {module}"); return true; }
        catch (Exception) { return false; }
    }

    public static string Run(string script)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(script);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"python failed: {stderr}");
        return stdout;
    }
}

/// <summary>The features a command's options name, opened by the stage that needs them.</summary>
public class FeatureSourceSpecTests
{
    private static TorchSharp.torch.Device NoDevice() => throw new Xunit.Sdk.XunitException("the device was resolved for features no network computes");

    [Fact]
    public void OptionsForAnotherExtractorAreRefusedAndNoDeviceIsResolvedWithoutANetwork()
    {
        var spec = new FeatureSourceSpec("rootsift", NoDevice, new NetworkOptions(), new ExtractionSettings());
        using (var source = spec.Open()) Assert.Equal(ExtractorIdentity.RootSiftType, source.Identity.FeatureType);
        Assert.Null(spec.MapModel);
        Assert.StartsWith("--top-k applies to R2D2 models; RootSIFT", Assert.Throws<UsageException>(() => (spec with { R2D2OnlyOption = "--top-k" }).Open()).Message);
        Assert.StartsWith("--precision applies to R2D2 models", Assert.Throws<UsageException>(() => (spec with { PrecisionGiven = true }).Open()).Message);
        Assert.StartsWith("--model rootsift: this command needs an R2D2 checkpoint", Assert.Throws<UsageException>(() => spec.OpenNetwork()).Message);
        var hloc = spec with { Model = "hloc:/x/features.h5", R2D2OnlyOption = "--max-size" };
        Assert.StartsWith("--max-size applies to R2D2 models; with --model hloc:FILE", Assert.Throws<UsageException>(() => hloc.Open()).Message);
        Assert.Equal("hloc:/x/features.h5", hloc.MapModel);
        using var network = (spec with { Model = "default", Device = () => TorchSharp.torch.CPU }).OpenNetwork();
    }
}
