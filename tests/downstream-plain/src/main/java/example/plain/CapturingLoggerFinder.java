package example.plain;

import java.util.List;
import java.util.MissingResourceException;
import java.util.ResourceBundle;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * What an application does to route System.Logger into its own logging; here it keeps convt's records so that
 * {@link Main} can check convt logs through System.Logger (and only there: Main also checks nothing is printed).
 */
public final class CapturingLoggerFinder extends System.LoggerFinder {
    static final List<String> RECORDS = new CopyOnWriteArrayList<>();

    @Override
    public System.Logger getLogger(String name, Module module) {
        return new System.Logger() {
            @Override public String getName() { return name; }
            @Override public boolean isLoggable(Level level) { return true; }

            @Override
            public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
                RECORDS.add(level + " " + name + ": " + msg);
            }

            @Override
            public void log(Level level, ResourceBundle bundle, String format, Object... params) {
                RECORDS.add(level + " " + name + ": " + (params == null || params.length == 0
                    ? format : java.text.MessageFormat.format(format, params)));
            }

            @Override
            public void log(Level level, Supplier<String> msgSupplier) {
                RECORDS.add(level + " " + name + ": " + msgSupplier.get());
            }
        };
    }
}
