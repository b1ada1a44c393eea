"""Software-defined assets: staging per landing source, then marts, then exports."""
