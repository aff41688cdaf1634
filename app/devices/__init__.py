"""Store hardware bridges (devices) with revocable tokens, and the print jobs they run."""
