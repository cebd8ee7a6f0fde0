/**
 * Implementation classes shared by convt's packages. Not API: the {@code dev.convt} module does not export this
 * package, and its classes may change in any release.
 */
package dev.convt.internal;
