"""Public pages of registrations, one module per step a person takes; each view reads input, calls one service or selector and renders."""
