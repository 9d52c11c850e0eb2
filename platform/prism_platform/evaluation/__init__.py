"""Offline evaluation (``prism eval``): metrics at K on a time split, for each recall
channel, whole strategies and a popularity baseline."""
