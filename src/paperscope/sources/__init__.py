"""One module per source; each turns a feed or file into `Batch`es of `Paper`s with a checkpoint."""
