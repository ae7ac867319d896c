"""Lessons in the window: the lesson panel, showing and recording steps, open and save."""
