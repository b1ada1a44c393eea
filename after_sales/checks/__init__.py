"""Asset checks, evaluated on an asset's rows before they are written."""
