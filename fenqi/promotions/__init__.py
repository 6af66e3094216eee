"""Promotions (活动): merchant-paid interest-free or reduced-rate campaigns with a budget."""
