namespace R2D2.Localization.Training;

/// <summary>Two RGB crops of equal size and where each pixel of image 1 lies in image 2.
/// Images: float32, planar 3×H×W (RGB planes), values in [0,1], not mean/std-normalized.
/// Flow: float32 planar 2×H×W: for pixel (x,y) of image 1 (pixel-centre convention, (0,0) = centre
/// of the top-left pixel), Flow[0,y,x] = x2 and Flow[1,y,x] = y2 in image 2; NaN where unknown
/// (outside image 2, occluded, or, for sparse pairs, everywhere but at the correspondences).</summary>
public sealed record TrainingPair(float[] Image1, float[] Image2, float[] Flow, int Height, int Width, bool Dense);

public interface ITrainingPairSource
{
    /// <summary>Deterministic: the same index (and the source's seed) always gives the same pair, on
    /// any thread; this is what makes training resumable and repeatable.</summary>
    TrainingPair Get(long index);
    /// <summary>One line for logs.</summary>
    string Describe();
}
