"""Run ``python -m ntm_sim``."""

# Guarded: Panel's component route imports modules by name, and importing this one must not
# run the command line (it would parse the server's arguments and exit the server).
if __name__ == "__main__":
    from ntm_sim.cli import main

    main()
