"""Reading a document into field rows: the recognisers, field decoding, review thresholds."""
