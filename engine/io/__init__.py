"""Data in and out of the engine: images and video (the one place that imports OpenCV), image
headers read before decoding, input preprocessing, and activation maps tiled for display.

Everything read from a user's files passes the checks here first: regular files only
(:mod:`~engine.io.files`), sizes within the memory budget (:mod:`~engine.io.budget`), JSON with
size and depth limits (:mod:`~engine.io.safe_json`) read as typed fields
(:mod:`~engine.io.fields`), ``.npz`` members checked before loading (:mod:`~engine.io.npz`), and
text from files shown escaped on a terminal (:mod:`~engine.io.terminal`)."""
