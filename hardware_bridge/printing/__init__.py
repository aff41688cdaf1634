"""Receipt printers: an ESC/POS encoder, documents rendered for the paper, transports, a durable spool
and one worker per printer."""
