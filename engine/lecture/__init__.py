"""What the lecture panels show, computed without Qt: step-by-step traces of a convolution and a
pooling window and their texts, receptive fields, parameter comparisons, small shifts."""
