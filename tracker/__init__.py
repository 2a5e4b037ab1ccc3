"""tracker: multi-year service contracts kept honest after the signature."""
