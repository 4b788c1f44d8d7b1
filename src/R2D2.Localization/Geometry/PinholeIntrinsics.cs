namespace R2D2.Localization.Geometry;

/// <summary>
/// Pinhole intrinsics, u = fx·x/z + cx, v = fy·y/z + cy, with (cx, cy) in the project's pixel
/// convention (centre of the top-left pixel at (0, 0): COLMAP's principal point minus 0.5).
/// Distortion is not modelled here: undistort the keypoints first.
/// </summary>
public readonly record struct PinholeIntrinsics(double Fx, double Fy, double Cx, double Cy);
