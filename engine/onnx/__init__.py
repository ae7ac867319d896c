"""ONNX models in and out: :mod:`engine.onnx.importer` turns a model into a Pipeline run by this
engine. Imported only when a model is opened, so ``import engine`` does not load ``onnx``."""
