"""Coverage-guided fuzzing of every decoder that sees untrusted bytes (``make fuzz``; README.md here)."""
