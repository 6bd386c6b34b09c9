"""ctxfix: find and fix Ollama context windows that are smaller than you think."""

__version__ = "0.3.5"
