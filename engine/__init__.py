"""CNN Explorer's numerical core: numpy only, no Qt."""
