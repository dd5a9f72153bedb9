"""Seeded phantom cohorts whose ground truth depends on the clinical note."""
