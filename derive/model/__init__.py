"""One resolved model per file: names in one namespace, declarations, claims, the loss and symbolic shapes."""
