"""Dataset analytics: the ESConv paper's tables and figures from a collection or a file."""
