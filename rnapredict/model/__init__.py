"""The fold network: trunk (sparse encoder + Perceiver IO), heads, EDM denoiser, confidence."""
