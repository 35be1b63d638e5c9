"""Sensor-to-tensor glue: pipeline description, feature stages and host references."""
