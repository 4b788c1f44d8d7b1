namespace R2D2.Localization;

/// <summary>A match between keypoint <see cref="I"/> of image 1 and <see cref="J"/> of image 2.</summary>
public readonly record struct Match(int I, int J, float Similarity);

/// <summary>Two images to match, by name (as in the feature database and the pairs files).</summary>
public readonly record struct ImagePair(string Name1, string Name2);

/// <summary>A keypoint of an image: the node of a track.</summary>
public readonly record struct TrackElement(int ImageId, int KeypointIndex);
