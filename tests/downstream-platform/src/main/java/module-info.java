/** Runs on the class path and on the module path; on the latter the natives' modules must be added (README). */
module example.platform {
    requires dev.convt;
}
