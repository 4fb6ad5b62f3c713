"""The MoU data-sharing policy: policy file model, loader, checks and decision point."""
