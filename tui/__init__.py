"""qtui: why is int8 slow on this CPU? Measure and explain."""
__version__ = "0.1.0"
