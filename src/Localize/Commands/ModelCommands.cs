using System.CommandLine;
using R2D2.Localization.Pipeline;

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
            var m = ModelRunner.Info(file);
            Console.WriteLine($"{file}\n  net: {m.Net}\n  weights: {m.WeightsHash}\n  tensors: {m.Tensors.Count}, values: {m.Tensors.Sum(t => t.Count)}");
            foreach (var t in m.Tensors) Console.WriteLine($"  {t.Name,-28} {t.DType,-4} [{string.Join(", ", t.Shape)}]");
            return 0;
        }));

        var src = new Argument<string>("checkpoint") { Description = "checkpoint to convert" };
        var dst = new Argument<string>("output") { Description = "output file: .safetensors (the project's format) or .pt (zip-format torch.save that PyTorch loads)" };
        var convert = new Command("convert", "Convert a checkpoint to safetensors or to a zip-format PyTorch file.") { src, dst };
        convert.SetAction(r => CommandErrors.Guard(() =>
        {
            var output = r.GetValue(dst)!;
            var (net, weights) = ModelRunner.Convert(r.GetValue(src)!, output);
            Console.WriteLine($"wrote {output} ({net}, weights {weights})");
            return 0;
        }));

        cmd.Subcommands.Add(info);
        cmd.Subcommands.Add(convert);
        return cmd;
    }
}
