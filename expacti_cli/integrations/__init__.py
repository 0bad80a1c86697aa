"""How guard reaches agents that do not call it directly: their harnesses' hooks (`hooks/`)."""
