"""segment-pendula's policy pack: guard rails for Pendula-bound Segment webhook mappings."""
