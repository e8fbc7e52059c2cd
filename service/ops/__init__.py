"""Operations on a whole installation (backup and restore), run from the command line."""
