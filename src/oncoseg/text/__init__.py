"""Clinical notes: cleaning, de-identification, templates, text encoders and their cache."""
