"""What the lecture panels show, computed without Qt: step-by-step traces of a convolution and a
pooling window and their texts, receptive fields, parameter comparisons, small shifts; and the
lessons teachers write (lesson.py: the model; lesson_file.py: the checked reader;
lesson_save.py: the writer that gathers a lesson's files beside it)."""
