/**
 * @module hypervisor/image
 * The AETHER-LINUX base image (spec §05), built with debootstrap, for operators who want a fixed
 * file set instead of the host's /usr.
 */
export { AETHER_LINUX_PACKAGES, buildImage, debootstrapArgs, type ImageBuildOptions, type ImageManifest } from './image-builder.js';
