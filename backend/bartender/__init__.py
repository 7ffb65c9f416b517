"""BarTender: real-time stock for bars, restaurants and bakeries."""

__version__ = "0.1.0"
