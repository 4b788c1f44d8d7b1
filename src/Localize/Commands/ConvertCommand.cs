using System.CommandLine;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize convert`: poses and cameras from one format to another (see <see cref="ConvertRunner"/>).</summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from")
        {
            Description = "a COLMAP model folder (binary or text), a kapture folder, an .nvm file, a folder of Strecha .camera files, a submission, a query list, or a feature database (.db: its cameras and stored poses; a map's 3D points too, to colmap-text or colmap-binary)",
            Required = true,
        };
        var to = new Option<string>("--to") { Description = "output: a folder (colmap-*, kapture, strecha; hloc: features.h5, matches.h5 and pairs.txt go in it) or a file (nvm, submission, query-list)", Required = true };
        var format = new Option<string>("--format") { Description = "colmap-text, colmap-binary, kapture, nvm, strecha, submission, query-list, or hloc (from a feature database or a kapture folder's reconstruction/: its features and matches as hloc's features.h5 and matches.h5)", Required = true };
        var intrinsics = new Option<string[]>("--intrinsics")
        {
            Description = "cameras by image name (`name MODEL w h params...` or a COLMAP database), one file or several (Aachen's day and night query lists): for a submission, a names-only list or an .nvm",
            AllowMultipleArgumentsPerToken = true,
        };
        var images = new Option<string?>("--images") { Description = "image folder (an .nvm without --intrinsics needs the images' sizes)" };
        var features = new Option<bool>("--features") { Description = "from a feature database (.db) to kapture: also its keypoints, descriptors and matches (reconstruction/)" };
        var keypointsType = new Option<string?>("--keypoints-type") { Description = "from a kapture folder to hloc: the keypoints type (reconstruction/keypoints/TYPE) to take, with its descriptors and matches; default: the folder's only one" };
        var cmd = new Command("convert", "Convert poses and cameras between COLMAP (text, binary), kapture, NVM, Strecha .camera, submissions and query lists; a feature database's features to kapture or hloc, a kapture folder's to hloc.");
        var descriptorsType = new Option<string?>("--descriptors-type") { Description = "from a kapture folder to hloc: the descriptors type (reconstruction/descriptors/TYPE) to take; default: the one whose descriptors.txt names the keypoints type" };
        foreach (var o in new Option[] { from, to, format, intrinsics, images, features, keypointsType, descriptorsType }) cmd.Options.Add(o);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var (n, written) = ConvertRunner.Run(r.GetValue(from)!, r.GetValue(to)!, ConvertRunner.ParseFormat(r.GetValue(format)!),
                r.GetValue(intrinsics), r.GetValue(images), r.GetValue(features), new ConsoleProgress("convert"), r.GetValue(keypointsType), r.GetValue(descriptorsType));
            Console.WriteLine($"convert: {Counted.Of(n, "image")} → {string.Join(", ", written)}");
            return 0;
        }));
        return cmd;
    }
}
