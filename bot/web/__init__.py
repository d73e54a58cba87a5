"""The website: the customers' chat widget, the staff console and the managers' dashboard."""
