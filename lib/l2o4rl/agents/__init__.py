"""RL agents. Each takes any optax transformation; none imports a learned optimizer."""
