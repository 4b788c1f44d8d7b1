namespace R2D2.Localization;

/// <summary>
/// A triangulated 3D point of a map (world coordinates, metres): its track (the image keypoints
/// that observe it), mean reprojection error (px), colour, and the descriptor the query stage
/// matches against (the normalized mean of the track's descriptors).
/// </summary>
public sealed record MapPoint(long Id, double X, double Y, double Z, byte R, byte G, byte B, double Error,
    TrackElement[] Track, float[]? Descriptor);
