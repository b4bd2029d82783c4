"""The assessment deadline: Temporal workflow and activities."""
