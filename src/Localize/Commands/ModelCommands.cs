using System.CommandLine;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize model info|convert`: inspect checkpoints and convert them to the project's format.</summary>
internal static class ModelCommands
{
    public static Command Create()
    {
        var cmd = new Command("model", "Inspect and convert checkpoints.");

        var path = new Argument<string>("checkpoint") { Description = "'default' (the embedded model), an official .pt, a zip-format torch file or a .safetensors" };
        var info = new Command("info", "Print a checkpoint's network, tensors and identity.") { path };
        info.SetAction(r => CommandErrors.Guard(() =>
        {
            var file = r.GetValue(path)!;
            var c = DefaultModel.IsDefault(file) ? DefaultModel.LoadCheckpoint() : Checkpoint.Load(file);
            using var net = ModelLoader.Network(c, file);
            Console.WriteLine($"{file}\n  net: {c.Net}\n  weights: {net.WeightsHash}\n  tensors: {c.StateDict.Count}, values: {c.StateDict.Values.Sum(t => t.Count)}");
            foreach (var (k, t) in c.StateDict) Console.WriteLine($"  {k,-28} {t.DType,-4} [{string.Join(", ", t.Shape)}]");
            return 0;
        }));

        var src = new Argument<string>("checkpoint") { Description = "checkpoint to convert" };
        var dst = new Argument<string>("output") { Description = "output file: .safetensors (the project's format) or .pt (zip-format torch.save that PyTorch loads)" };
        var convert = new Command("convert", "Convert a checkpoint to safetensors or to a zip-format PyTorch file.") { src, dst };
        convert.SetAction(r => CommandErrors.Guard(() =>
        {
            var output = r.GetValue(dst)!;
            if (!DefaultModel.IsDefault(r.GetValue(src))) OutputFile.RefuseInputs(new[] { ("converted checkpoint", (string?)output) }, new[] { ("checkpoint", r.GetValue(src)) });
            var c = DefaultModel.IsDefault(r.GetValue(src)) ? DefaultModel.LoadCheckpoint() : Checkpoint.Load(r.GetValue(src)!);
            using var net = ModelLoader.Network(c, r.GetValue(src)!); // validates the architecture against the weights
            if (output.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                c.SaveSafeTensors(output, new Dictionary<string, string> { ["source"] = Path.GetFileName(r.GetValue(src)!) });
            else if (output.EndsWith(".pt", StringComparison.OrdinalIgnoreCase) || output.EndsWith(".pth", StringComparison.OrdinalIgnoreCase))
                c.SaveTorchZip(output);
            else throw new UsageException($"{output}: the output must end in .safetensors or .pt");
            Console.WriteLine($"wrote {output} ({c.Net}, weights {net.WeightsHash})");
            return 0;
        }));

        cmd.Subcommands.Add(info);
        cmd.Subcommands.Add(convert);
        return cmd;
    }
}
