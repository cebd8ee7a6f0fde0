/** Runs on the module path: convt as a JPMS module, with its logging routed through System.Logger to this module. */
module example.plain {
    requires dev.convt;
    provides java.lang.System.LoggerFinder with example.plain.CapturingLoggerFinder;
}
