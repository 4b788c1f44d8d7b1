namespace R2D2.Localization.Training;

// Conventions of training pairs, stated once:
// - Images are float32, planar 3×H×W (R, G, B planes), values in [0, 1], not mean/std-normalized
//   (the network's input normalization belongs to the network side).
// - Pixel coordinates are the project's: (0, 0) is the centre of the top-left pixel.
// - Flow is float32 planar 2×H×W: for pixel (x, y) of image 1, Flow[0, y, x] = x2 and
//   Flow[1, y, x] = y2 in image 2; NaN where unknown (outside image 2, occluded, or — for sparse
//   pairs — everywhere but at the correspondences).

/// <summary>Two RGB crops of equal size and where each pixel of image 1 lies in image 2 (conventions above).</summary>
public sealed record TrainingPair(float[] Image1, float[] Image2, float[] Flow, int Height, int Width, bool Dense);

/// <summary>A source of training pairs.</summary>
public interface ITrainingPairSource
{
    /// <summary>Deterministic: the same index (and the source's seed) always gives the same pair, on any
    /// thread; this is what makes training resumable and repeatable.</summary>
    TrainingPair Get(long index);

    /// <summary>One line for logs, e.g. "homography pairs from 1000 generated images (seed 7)".</summary>
    string Describe();
}
