"""Revision scripts of the operational store, one per schema change, oldest first."""
