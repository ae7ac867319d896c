"""Data in and out of the engine: images and video (the one place that imports OpenCV), image
headers read before decoding, input preprocessing, and activation maps tiled for display."""
